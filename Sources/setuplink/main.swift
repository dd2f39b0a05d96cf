import Replica
print("setuplink")
