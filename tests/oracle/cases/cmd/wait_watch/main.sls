conf:
  file.managed:
    - name: @ROOT@/work/app.conf
    - contents: v1
restart:
  cmd.wait:
    - name: echo restarting
    - watch:
      - file: conf
idle:
  cmd.wait:
    - name: echo never
