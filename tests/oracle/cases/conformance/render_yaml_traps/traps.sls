traps:
  test.nop:
    - flag_on: on
    - flag_off: off
    - flag_yes: yes
    - flag_no: no
    - mode: 0644
    - quoted_mode: '0644'
    - zero: 0
    - octal_ish: 0755
