include:
  - lib
exclude:
  - id: lib_state
needs_lib:
  test.succeed_without_changes:
    - require:
      - test: lib_state
