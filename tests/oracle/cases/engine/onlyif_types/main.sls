t_true:
  test.succeed_with_changes:
    - onlyif: True
t_false:
  test.succeed_with_changes:
    - onlyif: False
t_zero:
  test.succeed_with_changes:
    - onlyif: 0
t_one:
  test.succeed_with_changes:
    - onlyif: 1
t_list:
  test.succeed_with_changes:
    - onlyif:
      - "true"
      - "false"
t_dict_nofun:
  test.succeed_with_changes:
    - onlyif:
      - foo: bar
t_fun_false:
  test.succeed_with_changes:
    - onlyif:
      - fun: test.false
t_fun_true:
  test.succeed_with_changes:
    - onlyif:
      - fun: test.true
t_cmd_false:
  test.succeed_with_changes:
    - onlyif: "false"
t_cmd_true:
  test.succeed_with_changes:
    - onlyif: "true"
