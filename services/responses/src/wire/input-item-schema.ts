// Inbound input items (spec: InputItem = EasyInputMessage | Item | ItemReferenceParam): the one item
// model shared with the Conversations service (shared/src/wire/items), so that whatever a response
// accepts, its conversation accepts too.
export {
  ITEM_TYPES as SUPPORTED_ITEM_TYPES,
  inputFilePart as inputFilePartSchema,
  inputImagePart as inputImagePartSchema,
  inputItemSchema,
  inputTextPart as inputTextPartSchema,
  type InputItem,
} from '@rgw/shared';
