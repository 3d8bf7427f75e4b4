first_here:
  test.succeed_without_changes:
    - require:
      - sls: later
