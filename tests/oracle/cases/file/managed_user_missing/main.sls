conf:
  file.managed:
    - name: @ROOT@/work/a.conf
    - contents: x
    - user: no_such_user_zz
    - group: no_such_group_zz
