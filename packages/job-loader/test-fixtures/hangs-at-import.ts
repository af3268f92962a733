// A job whose top-level await never settles: it never submits.
await new Promise(() => undefined);
