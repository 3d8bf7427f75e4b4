conf:
  file.managed:
    - name: @ROOT@/work/app.conf
    - contents: v1
reload:
  cmd.run:
    - name: echo reloading
    - onchanges:
      - file: conf
chained:
  cmd.run:
    - name: echo after reload
    - onchanges:
      - cmd: reload
