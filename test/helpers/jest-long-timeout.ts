// Real Temporal servers and workers: start-up and bundling take seconds.
jest.setTimeout(120_000);
