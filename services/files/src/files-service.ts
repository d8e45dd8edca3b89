import { routerFor, type Platform, type ServiceInstance } from '@rgw/shared';

// TODO(issue 10 files helper): the Files and Uploads APIs.
export async function createFilesService(platform: Platform): Promise<ServiceInstance> {
  return { name: 'files', routes: routerFor([], platform.config), descriptors: [] };
}
