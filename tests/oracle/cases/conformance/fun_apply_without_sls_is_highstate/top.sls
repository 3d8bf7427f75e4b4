base:
  conformance:
    - second
    - first
