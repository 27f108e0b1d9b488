import { getPriority, setPriority } from 'node:os';

/**
 * Makes the calling worker thread `step` nicer than the process (capped at 19), so background work (unmask,
 * evaluation) yields the core to the event loop's thread. Linux keeps nice per thread; elsewhere this may
 * lower the whole process or be refused, and then nothing changes. Returns the thread's nice value.
 */
export function lowerThisThread(step: number): number {
  try {
    if (step > 0) setPriority(Math.min(19, getPriority() + step));
  } catch {
    // Not permitted or not supported: the thread keeps the process's priority.
  }
  return getPriority();
}
