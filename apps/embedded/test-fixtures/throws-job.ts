// A module that throws while it loads, before submitting anything.
throw new Error('fixture exploded while loading');
