include:
  - empty
m:
  test.nop:
    - require:
      - sls: empty
