u_true:
  test.succeed_with_changes:
    - unless: True
u_false:
  test.succeed_with_changes:
    - unless: False
u_zero:
  test.succeed_with_changes:
    - unless: 0
u_list:
  test.succeed_with_changes:
    - unless:
      - "true"
      - "false"
u_list_true:
  test.succeed_with_changes:
    - unless:
      - "true"
      - "true"
u_dict_nofun:
  test.succeed_with_changes:
    - unless:
      - foo: bar
u_fun_true:
  test.succeed_with_changes:
    - unless:
      - fun: test.true
u_cmd_true:
  test.succeed_with_changes:
    - unless: "true"
u_cmd_false:
  test.succeed_with_changes:
    - unless: "false"
