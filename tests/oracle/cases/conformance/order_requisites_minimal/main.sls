a_first:
  test.succeed_without_changes
b_needs_d:
  test.succeed_without_changes:
    - require:
      - test: d_needed
c_plain:
  test.succeed_without_changes
d_needed:
  test.succeed_with_changes
e_last:
  test.succeed_without_changes
