import { getDefaultRunner, setDefaultRunner } from '@mobius/api';
import { EmbeddedRunner } from './embedded-runner.js';

// Importing 'mobius' makes in-process execution the default, unless a runner is already set
// (for example by a cluster client).
if (getDefaultRunner() === undefined) setDefaultRunner(new EmbeddedRunner());
