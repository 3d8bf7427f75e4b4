note:
  test.show_notification:
    - text: hello there
fwc:
  test.fail_with_changes
fwoc:
  test.fail_without_changes:
    - comment: custom
swc:
  test.succeed_with_changes:
    - comment: yay
cts_nochg:
  test.configurable_test_state:
    - changes: False
    - result: False
    - comment: nope
cts_warn:
  test.configurable_test_state:
    - warnings: careful
cts_allow:
  test.configurable_test_state:
    - result: False
    - allow_test_mode_failure: True
nop:
  test.nop:
    - whatever: 1
