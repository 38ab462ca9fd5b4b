import { createMemoryCheckResultStore } from '../../../src/adapters/check-result-store';
import { checkResultStoreContract } from '../../helpers/check-result-store-contract';

describe('the memory check-result store', () => {
  checkResultStoreContract(() => Promise.resolve(createMemoryCheckResultStore()));
});
