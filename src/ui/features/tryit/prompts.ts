/**
 * One short prompt per language of the bundled model (written for PolyPrune, in the register of its
 * training text: the Debian handbook, and the Universal Declaration of Human Rights for Arabic and
 * Swahili openings). A click in the "Try it" panel puts one in the prompt field.
 */
export const BUNDLED_PROMPTS: Readonly<Record<string, string>> = {
  ar: 'لكل شخص الحق في',
  de: 'Debian ist ein freies Betriebssystem, das',
  en: 'Debian is a free operating system that',
  es: 'Debian es un sistema operativo libre que',
  fr: "Debian est un système d'exploitation libre qui",
  it: 'Debian è un sistema operativo libero che',
  ja: 'Debian は自由なオペレーティングシステムで、',
  pt: 'O Debian é um sistema operacional livre que',
  ru: 'Debian — это свободная операционная система, которая',
  sw: 'Kila mtu ana haki ya',
  zh: 'Debian 是一个自由的操作系统，',
};
