import { routerFor, type Platform, type ServiceInstance } from '@rgw/shared';

// TODO(issue 11 vector-stores helper): the Vector Stores API.
export async function createVectorStoresService(platform: Platform): Promise<ServiceInstance> {
  return { name: 'vector-stores', routes: routerFor([], platform.config), descriptors: [] };
}
