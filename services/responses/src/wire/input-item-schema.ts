// Inbound input items (spec: InputItem = EasyInputMessage | Item | ItemReferenceParam) are the one item
// model shared with the Conversations service (shared/src/wire/items), so that whatever a response
// accepts, its conversation accepts too. Request code validates them with validateInputItem (precise
// params); the union itself is here for documents and types.
export { inputFilePart as inputFilePartSchema, inputImagePart as inputImagePartSchema, inputItemSchema, type InputItem } from '@rgw/shared';
