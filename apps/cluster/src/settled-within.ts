/** Resolves once every promise settled, or after `ms`, whichever comes first; never rejects. */
export function settledWithin(promises: readonly (Promise<unknown> | undefined)[], ms: number): Promise<void> {
  if (promises.length === 0) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([Promise.allSettled(promises), bound]).then(() => clearTimeout(timer));
}
