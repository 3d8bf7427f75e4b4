good:
  test.succeed_without_changes
bad:
  test.fail_without_changes
needs_good:
  test.succeed_with_changes:
    - require:
      - test: good
needs_bad:
  test.succeed_with_changes:
    - require:
      - test: bad
needs_needs_bad:
  test.succeed_with_changes:
    - require:
      - needs_bad
