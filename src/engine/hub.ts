/** Hugging Face Hub ids for the front ends (the app's model field, the CLI's --model). */
export { isHubId, parseHubId, hubFileUrl, HUB_ENDPOINT } from '../io/hub';
