from_include:
  test.succeed_without_changes:
    - comment: included text sees sls={{ sls }}
