who:
  cmd.run:
    - name: id -un
    - runas: nobody
    - cwd: /
