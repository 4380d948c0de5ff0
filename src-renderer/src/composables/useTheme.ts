import { ref, watchEffect } from 'vue';

export type ThemeChoice = 'auto' | 'light' | 'dark';
const KEY = 'covseg.theme';

/** The theme in effect; charts watch it to redraw with the new palette. */
export const appliedTheme = ref<'light' | 'dark'>('dark');

/**
 * Light or dark: the system's preference (prefers-color-scheme) unless the person chose one with the
 * header toggle; the choice is kept in localStorage (a display preference of this browser, not of
 * the workspace). The palette itself lives in App.vue as CSS variables under `data-theme`.
 */
export function useTheme() {
  const stored = localStorage.getItem(KEY);
  const choice = ref<ThemeChoice>(stored === 'light' || stored === 'dark' ? stored : 'auto');
  const media = window.matchMedia('(prefers-color-scheme: light)');
  const systemLight = ref(media.matches);
  media.addEventListener('change', (e) => (systemLight.value = e.matches));
  watchEffect(() => {
    appliedTheme.value = choice.value === 'auto' ? (systemLight.value ? 'light' : 'dark') : choice.value;
    document.documentElement.dataset.theme = appliedTheme.value;
    if (choice.value === 'auto') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice.value);
  });
  /** auto, then the opposite of what auto shows, then back to auto. */
  const cycle = () => {
    const system = systemLight.value ? 'light' : 'dark';
    choice.value = choice.value === 'auto' ? (system === 'dark' ? 'light' : 'dark') : 'auto';
  };
  return { choice, applied: appliedTheme, cycle };
}

/** A CSS variable of the page as the browser resolved it (charts draw on canvas and need the value itself). */
export function themeColour(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/**
 * The text and grid colours for Chart.js (canvas text takes no CSS): the theme's muted text, which
 * meets WCAG AA (>= 4.5:1) on the page background in both palettes. Charts redraw with it when
 * {@link appliedTheme} changes.
 */
export function chartColours(): { text: string; grid: string } {
  return { text: themeColour('--muted') || '#b0b0b0', grid: themeColour('--grid') || '#3a3a3a' };
}
