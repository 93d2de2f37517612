import { shared } from '../vitest.shared.ts';

// The repository's own checks (scripts/*.test.ts), run by the root `npm test` before the workspaces.
export default shared;
