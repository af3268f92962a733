// A job whose usage check exits the process while the module is imported.
process.stderr.write('usage: exits-at-import <input> (no input given)\n');
process.exit(2);
