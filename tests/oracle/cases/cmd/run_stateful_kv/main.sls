changed:
  cmd.run:
    - name: 'echo working; echo "changed=yes comment=\"all done\""'
    - stateful: True
unchanged:
  cmd.run:
    - name: 'echo "changed=no comment=nothing"'
    - stateful: True
