base:
  conformance:
    - app
