conf:
  file.managed:
    - name: @ROOT@/work/app.conf
    - contents: v1
ws:
  cmd.wait_script:
    - name: salt://scripts/hello.sh
    - watch:
      - file: conf
