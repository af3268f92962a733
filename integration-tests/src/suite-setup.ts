// Runs before every test file (vitest setupFiles): the suite's embedded jobs encode every
// channel with the network codec (runtime.serialize-local-channels), so what passes here embedded
// also holds on a cluster. A test that must pass originals sets the option to false on its job.
import { withJobDefaults, SUITE_JOB_OPTIONS } from '@mobius/testkit';
import { getDefaultRunner, setDefaultRunner } from 'mobius';

const runner = getDefaultRunner();
if (runner !== undefined) setDefaultRunner(withJobDefaults(runner, SUITE_JOB_OPTIONS));
