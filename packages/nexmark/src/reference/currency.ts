/**
 * q1's conversion, `0.908 * price` as Flink SQL's DECIMAL(23, 3): the exact product has at most
 * three decimals, so it is computed in integers (price * 908 is exact below 2^53) and the result
 * is the double nearest to that decimal, whatever order a float multiplication would round in.
 */
export function dollarsToEuros(price: number): number {
  return (price * 908) / 1000;
}
