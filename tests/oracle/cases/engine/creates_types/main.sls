c_exists:
  test.succeed_with_changes:
    - creates: @ROOT@/work/here
c_missing:
  test.succeed_with_changes:
    - creates: @ROOT@/work/nothere
c_list_all:
  test.succeed_with_changes:
    - creates:
      - @ROOT@/work/here
      - @ROOT@/work/here2
c_list_some:
  test.succeed_with_changes:
    - creates:
      - @ROOT@/work/here
      - @ROOT@/work/nothere
c_int:
  test.succeed_with_changes:
    - creates: 1
c_onlyif_and_creates:
  test.succeed_with_changes:
    - onlyif: "true"
    - creates: @ROOT@/work/here
