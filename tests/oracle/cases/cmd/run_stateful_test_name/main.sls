st:
  cmd.run:
    - name: 'echo "changed=yes"'
    - stateful:
      - test_name: 'echo "changed=no comment=checked"'
