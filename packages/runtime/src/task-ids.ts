/** The index of a task from its id (`vertex#i` → i), as the planner names tasks. */
export const indexOfTask = (taskId: string): number => Number(taskId.slice(taskId.lastIndexOf('#') + 1));
