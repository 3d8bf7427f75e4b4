hello:
  cmd.run:
    - name: echo hello; echo oops >&2
