// The item model is shared with the Responses service (one schema, so the two cannot drift).
export { validateInputItem, validateInputItems, type InputItem } from '@rgw/shared';
