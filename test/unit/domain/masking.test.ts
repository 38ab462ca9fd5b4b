import { maskPhone, maskPhonesInText } from '../../../src/domain/masking';

describe('maskPhone', () => {
  it.each([
    ['+821012345678', '+82******5678'],
    ['+14155550100', '+14*****0100'],
    ['+44 20 7946 0958', '+44******0958'],
    ['+8210123', '******23'],
    ['12', '**'],
  ])('masks %s as %s', (phone, masked) => {
    expect(maskPhone(phone)).toBe(masked);
  });
});

describe('maskPhonesInText', () => {
  it('masks every phone number in a sentence and leaves short numbers alone', () => {
    expect(maskPhonesInText("The 'To' number +821012345678 is not valid (error 21211).")).toBe(
      "The 'To' number +82******5678 is not valid (error 21211).",
    );
  });
});
