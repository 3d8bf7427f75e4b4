new_file:
  file.managed:
    - name: @ROOT@/work/a.conf
    - contents: |
        hello
        world
