// The include filter is shared with the Responses service.
export { applyInclude, parseInclude } from '@rgw/shared';
