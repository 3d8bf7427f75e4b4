a:
  test.no_such_function
b:
  test.succeed_without_changes
c:
  nosuchmod.present
