import { toast, confirmAction } from './feedback';
import { errorMessage } from './format';
import { scheduleRefresh } from './sync';

/** Confirm, run, report, refresh: every button that changes the server goes through here. */
export async function control(
  title: string,
  text: string,
  run: () => Promise<unknown>,
  done: string,
  danger = false,
): Promise<boolean> {
  if (!(await confirmAction(title, text, danger))) return false;
  try {
    await run();
    toast(done);
    scheduleRefresh();
    return true;
  } catch (err) {
    toast(`${title} failed: ${errorMessage(err)}`, true);
    return false;
  }
}
