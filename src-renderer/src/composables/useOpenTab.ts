import { inject, type InjectionKey } from 'vue';

/** Switches the app to another tab (App.vue provides it), e.g. from the slice browser to Annotate. */
export type OpenTab = (tab: 'annotate' | 'browser') => void;
export const OPEN_TAB: InjectionKey<OpenTab> = Symbol('open-tab');

/** The app's tab switcher; a no-op where no App provides one (component tests). */
export function useOpenTab(): OpenTab {
  return inject(OPEN_TAB, () => undefined);
}
