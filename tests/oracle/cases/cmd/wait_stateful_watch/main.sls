conf:
  file.managed:
    - name: @ROOT@/work/app.conf
    - contents: v1
w:
  cmd.wait:
    - name: 'echo "changed=yes comment=\"reloaded\""'
    - stateful: True
    - watch:
      - file: conf
