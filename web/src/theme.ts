// Light or dark: the system's preference (prefers-color-scheme) unless the reader chose one with
// the top bar's toggle, which is remembered in localStorage. The choice is applied as
// <html data-theme="light|dark">, which style.css reads; "auto" removes it.

const kKey = 'zc-theme';
type Choice = 'auto' | 'dark' | 'light';

function stored(): Choice {
  try {
    const v = localStorage.getItem(kKey);
    return v === 'dark' || v === 'light' ? v : 'auto';
  } catch {
    return 'auto';
  }
}

function apply(choice: Choice): void {
  if (choice === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}

apply(stored()); // before the first paint of the page's content

/** Adds the toggle (auto → dark → light → auto) to the top bar. */
export function installThemeToggle(): void {
  const bar = document.querySelector('.topbar');
  if (!bar) return;
  const btn = document.createElement('button');
  btn.type = 'button';
  btn.id = 'theme';
  btn.className = 'theme';
  const label = (c: Choice) => {
    btn.textContent = c === 'auto' ? 'Theme: auto' : c === 'dark' ? 'Theme: dark' : 'Theme: light';
    btn.dataset.choice = c;
  };
  label(stored());
  btn.addEventListener('click', () => {
    const next: Choice = stored() === 'auto' ? 'dark' : stored() === 'dark' ? 'light' : 'auto';
    try {
      if (next === 'auto') localStorage.removeItem(kKey);
      else localStorage.setItem(kKey, next);
    } catch {
      /* private mode: the choice lasts for this page only */
    }
    apply(next);
    label(next);
  });
  bar.querySelector('.conn')?.after(btn);
}
