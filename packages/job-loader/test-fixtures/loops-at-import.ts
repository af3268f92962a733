// A job that spins forever while it is imported.
let n = 0;
for (;;) n++;
