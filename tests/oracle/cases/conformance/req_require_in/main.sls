consumer:
  test.succeed_without_changes
middle:
  test.succeed_without_changes
provider:
  test.succeed_with_changes:
    - require_in:
      - test: consumer
failing_provider:
  test.fail_without_changes:
    - require_in:
      - middle
