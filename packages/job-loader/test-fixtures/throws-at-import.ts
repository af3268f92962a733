// A job that refuses its arguments with an exception.
throw new Error(`bad arguments: ${process.argv.slice(2).join(' ')}`);
