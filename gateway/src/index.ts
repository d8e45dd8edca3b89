export { startGateway, type Gateway } from './gateway.js';
