changer:
  test.succeed_with_changes
quiet:
  test.succeed_without_changes
after_changer:
  test.succeed_with_changes:
    - require:
      - test: changer
on_changes:
  test.succeed_with_changes:
    - onchanges:
      - test: changer
configurable:
  test.configurable_test_state:
    - changes: True
    - result: False
