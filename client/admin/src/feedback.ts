/** Toasts and the modal confirm every control goes through. */
import { byId } from './dom';

let toastTimer: number | undefined;
export function toast(message: string, error = false): void {
  const el = byId('toast');
  el.textContent = message;
  el.className = `toast${error ? ' error' : ''}`;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => (el.hidden = true), error ? 8000 : 3500);
}

/** A modal confirm for every control; resolves true on Confirm. */
export function confirmAction(title: string, text: string, danger = false): Promise<boolean> {
  const dlg = byId('confirm', HTMLDialogElement);
  byId('confirm-title').textContent = title;
  byId('confirm-text').textContent = text;
  byId('confirm-ok').className = danger ? 'danger' : '';
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    dlg.returnValue = '';
    dlg.showModal();
  });
}
